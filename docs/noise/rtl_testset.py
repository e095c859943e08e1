"""The 360 test images of digits_mlp (default) or digits_cnn through the generated RTL (Icarus, cocotb) with
injected accumulator flips: bit-exact against the noisy golden model, and the accuracy of those RTL outputs.

    python docs/noise/rtl_testset.py [--cnn] RATE SEED SCHEME...  # SCHEME: none, tmr, abft, abft:R, ant, ant:BITS[:T]

digits_mlp is built at `--parallel 32`, digits_cnn (`--cnn`) at `--parallel 64`.

The bench streams 8 warm-up images first (positions 0-7 of the fault streams), then all 360; `vhls verify` takes
random vectors, so the runner's vector maker is swapped for the test images here.
"""

import sys

import numpy as np

import vhls.sim.nn.runner as runner
from vhls.backends.nn import design
from vhls.backends.nn.protect import NoiseOptions
from vhls.backends.nn.protect import golden as noise_golden
from vhls.loader import load

WARMUP = 8


def main(rate: float, seed: int, schemes: list[str], cnn: bool = False) -> None:
    model = load(f"examples/digits_{'cnn' if cnn else 'mlp'}.py")
    x, y = model.test_set
    raw = np.asarray(model.quantise_input(x)).reshape(len(x), -1).astype(np.int64)
    runner.make_vectors = lambda d, n, s: raw
    seq = np.concatenate([raw[np.arange(WARMUP) % len(raw)], raw])
    shaped = raw.reshape(len(raw), *model.input_shape)
    clean = np.mean(np.argmax(np.asarray(model.run_raw(shaped)).reshape(len(raw), -1), axis=1) == y)
    print(f"clean {100 * clean:.2f} %")
    for scheme in schemes:
        noise = NoiseOptions.parse(f"acc:{rate}:{seed}", None if scheme == "none" else scheme)
        d = design(model, "64" if cnn else "32", noise=noise)
        res = runner.verify(d, "icarus", vectors=len(raw), seed=0, throughput_vectors=WARMUP)
        out, stats = noise_golden(d.net, d.noise, seq)
        acc = np.mean(np.argmax(out[WARMUP:], axis=1) == y)
        events = {k: sum(v) if k not in ("flagged", "released_flagged") else sum(map(len, v))
                  for k, v in stats.items() if k in ("replaced", "outvoted", "flagged", "attempts", "retries",
                                                     "released_flagged")}
        print(f"{scheme}: {res.mismatches} mismatches in {res.vectors} vectors, {res.cycles_per_inference:g} "
              f"cycles/inference (predicted {res.predicted_cycles}), latency {res.latency} (predicted "
              f"{res.predicted_latency}), RTL accuracy {100 * acc:.2f} %, golden events over the stream {events}"
              + (f", ABFT from the RTL: {res.extra['abft']}" if "abft" in res.extra else "")
              + (f", recompute timing from the RTL: {res.extra['abft_timing']}" if "abft_timing" in res.extra else "")
              + f", ok {res.ok}", flush=True)


if __name__ == "__main__":
    cnn = sys.argv[1:2] == ["--cnn"]
    args = sys.argv[1 + cnn:]
    main(float(args[0]), int(args[1]), args[2:], cnn)
