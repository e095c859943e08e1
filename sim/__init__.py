"""vhls.sim"""
