"""vhls.backends"""
