"""End-to-end tests: the real server in a subprocess, driven by real HTTP and Socket.IO clients."""
