"""ABFT with recompute: a dense stage between a replay buffer and a commit buffer (`--tolerance abft:R`).

    replay buffer (replay.py) -> dense stage with its ABFT checker (dense.py, abft.py) -> commit buffer (commit.py)

The replay buffer sends one vector and waits for the checker's verdict; on a flag it sends the same vector again
(up to R times) and the commit buffer drops the outputs of the flagged attempt, else the commit buffer releases
them and the next vector goes. The dense stage's own schedule is untouched: the loop serialises vectors at the
stage boundary, so a vector takes plan.StagePlan.cycles (its folds, the pipeline to the checker, the verdict and
the replay's turn-around) per attempt. Re-executions advance the fault injector like any vector, which is what
`vhls.noise.tolerance.protect(..., retries=R)` models. Same ports as DenseStage (counters count attempts).
"""

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from vhls.backends.nn.abft import COUNTER_BITS
from vhls.backends.nn.commit import CommitBuffer
from vhls.backends.nn.dense import DenseStage
from vhls.backends.nn.plan import StagePlan
from vhls.backends.nn.protect import NoiseOptions
from vhls.backends.nn.replay import ReplayBuffer


class RecomputeStage(wiring.Component):
    def __init__(self, plan: StagePlan, chunk: int, noise: NoiseOptions) -> None:
        assert noise.scheme == "abft" and noise.retries >= 1
        self.plan, self.chunk, self.noise = plan, chunk, noise
        ly = plan.layer
        super().__init__({
            "i": In(stream.Signature(chunk * ly.in_type.width)),
            "o": Out(stream.Signature(plan.pe * ly.out_type.width)),
            "abft_checked": Out(COUNTER_BITS),
            "abft_errors": Out(COUNTER_BITS),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        pl, ly = self.plan, self.plan.layer
        m.submodules.replay = rp = ReplayBuffer(self.chunk * ly.in_type.width, ly.n_in // self.chunk,
                                                self.noise.retries)
        m.submodules.core = core = DenseStage(pl, self.chunk, self.noise)
        # verdicts outstanding: a vector partly in the commit buffer, whole vectors in the stage's output FIFO
        m.submodules.commit = cb = CommitBuffer(pl.pe * ly.out_type.width, pl.nf, pl.fifo_depth // pl.nf + 1)
        wiring.connect(m, wiring.flipped(self.i), rp.i)
        wiring.connect(m, rp.o, core.i)
        wiring.connect(m, core.o, cb.i)
        wiring.connect(m, cb.o, wiring.flipped(self.o))
        m.d.comb += [
            rp.i_verdict.eq(core.abft_verdict), rp.i_flag.eq(core.abft_flag), rp.i_room.eq(cb.o_room),
            cb.i_commit.eq(rp.o_commit), cb.i_drop.eq(rp.o_drop),
            self.abft_checked.eq(core.abft_checked), self.abft_errors.eq(core.abft_errors),
        ]
        return m


def dense_stage(plan: StagePlan, chunk: int, noise: NoiseOptions | None) -> DenseStage | RecomputeStage:
    """The stage top.py instantiates for a dense layer: wrapped when ABFT recomputes."""
    if noise is not None and noise.scheme == "abft" and noise.retries:
        return RecomputeStage(plan, chunk, noise)
    return DenseStage(plan, chunk, noise)
