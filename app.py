"""A restorer's workbench in the browser: open a painting (from FOLDER, or uploaded), see the
damage found for you, zoom and pan down to its own pixels (wheel, + - 0 1, Space or the middle
button to pan), correct the mask with a brush, an eraser and clicks on losses (kept for each
painting by the browser: next, previous or a reload lose nothing), restore it with any method
or model (then correct and restore again on top, each result a step of Undo), compare before
and after at any zoom (hold C: the original), and save the painting at its own depth with its
profile, its mask and a record, exactly as restore.py writes them, under the same names.

It serves one page on this machine only (127.0.0.1) unless --host says otherwise; the page needs
no internet. Nothing is read from outside FOLDER, and nothing is written outside OUT.

examples:
  python app.py scans/                       # then open the address it prints
  python app.py scans/ -o restored --port 8765
  python app.py                              # no folder: upload paintings from the page
"""
import logging
import signal
import sys
from pathlib import Path

from detection import registry as detections
from detection.detect import Detector
from restoration.pipeline import WARN_SHARE
from utils import cli
from utils.cli import printable
from utils.errors import UserError

LOCAL = ("127.0.0.1", "localhost", "::1")


def parse_args(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("folder", nargs="?", metavar="FOLDER",
                   help="folder of paintings to offer on the page (default: uploads only)")
    p.add_argument("-o", "--out", default="restored", help="folder the page saves into")
    p.add_argument("--port", type=cli.port, default=8765, help="port, 1-65535 (0: any free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: this machine only; anything else lets "
                        "anyone on the network use the page)")
    p.add_argument("--max-upload-mb", type=cli.positive(float), default=200,
                   help="largest upload accepted, in MB")
    p.add_argument("--max-pixels", type=cli.positive(int), metavar="N",
                   help="largest painting to open or upload, in pixels, weighed before it is "
                        "decoded (default 100,000,000, and what memory allows)")
    p.add_argument("--warn-share", type=cli.fraction, default=WARN_SHARE, metavar="SHARE",
                   help="a mask over this share of a painting is shown and confirmed before it "
                        "is filled (0-1)")
    p.add_argument("--detect", choices=detections.DETECTIONS, default=Detector().method,
                   help=f"how the damage is found when a painting is opened: "
                        f"{detections.describe()}")
    p.add_argument("--detail-side", type=cli.within(int, 0, 1_000_000, "number of pixels"),
                   default=Detector().detail_side, metavar="PIXELS",
                   help="the detector network's detail copy: at most this many pixels a side "
                        "(0: the painting's own size; see restore.py --help)")
    return p.parse_args(argv)


def main(args):
    from workbench.server import Workbench
    if args.folder and not Path(args.folder).is_dir():
        raise UserError(f"{printable(args.folder)}: no such folder")
    # the Host names it answers to: this machine's, or any for a wildcard address (the token
    # still guards it)
    wildcard = args.host in ("0.0.0.0", "::", "")
    hosts = None if wildcard else {*LOCAL, args.host.strip("[]").lower()}
    workbench = Workbench(args.folder, args.out, args.max_upload_mb, args.max_pixels,
                          Detector(args.detect, detail_side=args.detail_side), hosts=hosts,
                          warn_share=args.warn_share)
    # stopped by a service manager (SIGTERM) as by Ctrl-C: the finally below removes the uploads
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        print("loading the detector and the model…", flush=True)
        workbench.warm_up()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        serve(args, workbench)
    except KeyboardInterrupt:
        print("stopped")
    finally:
        workbench.close()


def serve(args, workbench):
    """Listen, print the page's address and serve it until stopped."""
    from werkzeug.serving import make_server

    from workbench.server import create_app
    host = printable(args.host)
    try:
        server = make_server(args.host, args.port, create_app(workbench), threaded=True)
    except UnicodeError:  # a name IDNA refuses (a label over 63 characters, ...)
        raise UserError(f"--host {host}: not a host name") from None
    except OSError as error:
        raise UserError(f"cannot listen on {host}:{args.port} ({error.strerror or error}); "
                        f"try another --port")
    workbench.port = server.server_port  # the token's cookie is named by it
    if args.host not in LOCAL:
        print(f"warning: listening on {host}: anyone who can reach this machine on the "
              f"network can open, restore and save paintings here", file=sys.stderr)
    host = f"[{host}]" if ":" in host else host
    print(f"the workbench is at http://{host}:{server.server_port}/?token={workbench.token} "
          f"(Ctrl-C to stop; the address carries this run's token); paintings from "
          f"{printable(workbench.folder or 'uploads')}, saved into "
          f"{printable(Path(args.out).resolve())}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    cli.run(main, parse_args, restoring=True)  # restoring: see utils/env.py
