"""Noise and fault models, tolerance schemes and noise-aware training for MAC arrays (issue #6).

    golden.py     forward(net, x_raw, hook, weights): the exact stage-by-stage model of the nn backend's datapath
                  (dense, conv as im2col, pool), with a hook on every MAC stage's finished accumulators (the fault
                  site); accumulators(net, x)
    inject.py     the bit-exact RTL fault stream (xorshift32 per stage and replica): fault(), fault_hook()
    tolerance.py  protect(net, scheme, fault): none / tmr / ant / abft semantics shared by RTL and sweeps; overhead
    tolerance.py  ANT thresholds: ant_thresholds(net, bits, "cal" | "worst" | values, x_cal), as builds fix them
    models.py     statistical noise models (Gaussian, bit-error rates, the RTL injector's stream, voltage
                  over-scaling, stuck-at)
"""
