"""The `yizhan` command and the local station runner (`make run`)."""
