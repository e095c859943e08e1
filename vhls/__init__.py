"""vhls: neural networks and Ising annealers to verified FPGA accelerators."""
