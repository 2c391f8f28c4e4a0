"""Test support: real servers on loopback ports and a gap-filled Kubernetes API emulator."""
