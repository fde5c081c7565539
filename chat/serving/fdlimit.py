"""The open-file limit, raised so one process can hold 10,000 sockets.

Each connection is a file descriptor; the usual soft limit (1024) would refuse the
1,021st connection with EMFILE. The soft limit is raised to the hard limit, which a
process may do without privileges (the hard limit itself is the platform's to set:
`ulimit -Hn`, Docker's `--ulimit nofile=`, systemd's LimitNOFILE).
"""

from __future__ import annotations

import resource


def raise_open_files_limit() -> int:
    """Raise RLIMIT_NOFILE's soft limit to its hard limit; return the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft
        return target
    return soft
