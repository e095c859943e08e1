"""vhls.rewrites"""
