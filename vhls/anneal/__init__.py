"""Ising annealing: problem files, SSA golden models, the `vhls anneal` command (hardware in vhls.backends.pbit)."""
