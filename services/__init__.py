"""The three yizhan services; none imports another."""
