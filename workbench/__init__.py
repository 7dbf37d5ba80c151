"""The restorer's workbench: a local Flask server (server.py) over the restore code, and its
page (web/)."""
