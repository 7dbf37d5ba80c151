"""Train the Fourier inpainter (models/ffc.py: the Context Encoder with fast Fourier convolution
blocks, after LaMa) as a context-conditional GAN: L1 reconstruction, a patch discriminator that
judges the patches mostly missing (R1 penalty), and feature matching. Start it from a trained
Context Encoder with --init; the same run folder, resume, samples and --distribute as the other
train scripts.

Writes runs/<name>/: model.keras (the generator, best on validation MSE), discriminator.keras,
checkpoints, samples/epoch_XXXX.png, log.csv (loss = reconstruction MSE, g_adv, g_fm, d_loss,
d_acc, d_perfect), loss.png and config.json.

examples:
  python train_fourier.py --init pretrained/context_encoder.keras
  python train_fourier.py --data ~/paintings --name myfourier --init pretrained/context_encoder.keras
  python train_fourier.py --name myfourier --resume --epochs 60
"""
from training import recipes
from utils import cli


def parse_args(argv=None):
    return cli.parse_training_args(recipes.fourier_parser(__doc__), argv)


def main(args):
    recipes.train_fourier(args)


if __name__ == "__main__":
    cli.run(main, parse_args)
