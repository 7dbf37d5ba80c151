"""Training the models: data and artificial damage (data.py, paint_loss.py), what each model
trains on and shows (tasks.py), the run folder (run.py), the loop (loop.py) and the train
scripts' shared bodies (recipes.py)."""
