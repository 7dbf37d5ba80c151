"""Train the damage detector: a U-Net that marks paint loss, learned from clean paintings with
synthetic losses of realistic appearance (training/paint_loss.py).

Writes runs/<name>/: model.keras (best on validation; restore.py --detector loads it),
checkpoints, samples/epoch_XXXX.png (painting | true loss | found | overlay), log.csv, loss.png
and config.json.

examples:
  python train_detector.py                                          # scikit-image's samples
  python train_detector.py --data ~/paintings --name det            # your own clean paintings
  python train_detector.py --name det --resume --epochs 60          # continue a stopped run
  python train_detector.py --init pretrained/detector.keras --hard-negatives 0.2 --lr 2e-4
"""
from utils import cli


def parse_args(argv=None):
    p = cli.parser(__doc__)
    # About 40 minutes on a 2-core CPU: the recipe of the shipped model (pretrained/README.md).
    cli.add_training_args(p, epochs=30, steps_per_epoch=60, batch_size=8, lr=1e-3,
                          image_size="192x288", inpainting=False)
    p.add_argument("--clean-fraction", type=cli.fraction, default=0.3,
                   help="share of the training crops left clean: paint the detector must leave "
                        "alone (hard negatives: whites, flesh, skies)")
    p.add_argument("--decoys", type=cli.fraction, default=0.0,
                   help="share of the training crops with pale paint painted on and left "
                        "unmarked (hard negatives: banners, borders, highlights; "
                        "training/paint_loss.py)")
    p.add_argument("--hard-negatives", type=cli.fraction, default=0.0, metavar="FRACTION",
                   help="share of the training crops cut around the false alarms of the --init "
                        "model on the training paintings (found before the first epoch) and "
                        "left unmarked: what fooled it (highlights, white drapery, "
                        "inscriptions, skies, borders)")
    args = cli.parse_training_args(p, argv)
    if args.hard_negatives and not args.init:
        p.error("--hard-negatives needs --init: the false alarms are those of the model the "
                "run starts from")
    return args


def main(args):
    from models.detector import build_damage_detector, compile_damage_detector
    from training.loop import train
    from training.tasks import detection_data, detection_samples

    def make_model(config, input_shape, decay_steps):
        return compile_damage_detector(build_damage_detector(), config["lr"], decay_steps,
                                       jit_compile=not config["no_jit"])
    train(args, "detector", make_model, detection_data, detection_samples)


if __name__ == "__main__":
    cli.run(main, parse_args)
