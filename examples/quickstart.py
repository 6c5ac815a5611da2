"""The whole pipeline on one screen: data, model, compiled training, evaluation.

Runs offline on the bundled 5,000-image MNIST sample in a few seconds:

    python examples/quickstart.py            # prints test accuracy per epoch; exits 1 below 90%
"""

import sys

from mnistlab import data, models, train

# Verified data: uint8 images (N, 28, 28) and int32 labels. The sample ships inside mnistlab.
train_set = data.load("mnist-sample", "train")  # 4,000 images
test_set = data.load("mnist-sample", "test")  # 1,000 images

# A Flax MLP as pure init/apply functions; any linen Module or (init, apply) pair works here.
model = models.build_model("mlp", widths=(256,), activation="relu")

# One frozen config says everything about training; resolve() fills per-optimizer defaults.
config = train.resolve(train.TrainConfig(model="mlp", optimizer="adam", epochs=6, batch_size=64, seeds=(0,)))

# The engine compiles ONE XLA program per epoch: shuffling by PRNG key, a lax.scan over batches,
# the data resident on the device as uint8 and scaled inside the program.
engine = train.Engine(model, config, n_train=len(train_set), image_shape=(28, 28), num_classes=10)
result = train.fit(engine, train_set, evals={"test": test_set})

for record in result.history.epochs:
    print(f"epoch {record['epoch']}: test accuracy {100 * record['test_accuracy'][0]:.2f}%")
print(f"compiled in {result.compile_seconds:.1f} s")

# Scored over every test image (no dropped last batch): the CI gate for this example.
final = result.history.epochs[-1]["test_accuracy"][0]
sys.exit(0 if final >= 0.90 else 1)
