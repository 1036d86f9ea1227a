"""Limits the kernel's process sets on itself before it starts: no file larger than the disk
limit, and no ``fallocate``.

The watchdog (:mod:`instructor.engine.watchdog`) measures the kernel's folders a few times a
second, so its disk limit holds only as fast as files grow. Two things grow them faster than
any check: one ``fallocate`` reserves gigabytes of disk in microseconds, and a file may grow
without bound between two checks. So the kernel starts through a small program
(:data:`GUARD_CODE`, run by the same Python with ``-S``, importing only the standard library)
that sets ``RLIMIT_FSIZE`` (no file past the disk limit: a larger write fails with EFBIG) and
installs a seccomp filter that makes ``fallocate`` fail with EPERM (``posix_fallocate`` then
fails too: glibc falls back to writing only when the call is unsupported), then replaces itself
with the kernel. Both hold for every process the kernel starts and cannot be lifted
(``no_new_privs``; a hard limit is lowered for good). Writing real data still takes the disk's
time, which the watchdog's checks keep up with.

Nothing here knows about the lab. Linux only: elsewhere :func:`command` returns the command
unchanged.
"""
import sys

# The filter, as classic BPF: for x86-64 (and its x32 and i386 ABIs) and AArch64, fallocate
# returns EPERM; every other system call, and every other architecture, is allowed.
AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64 = 0xC000003E, 0x40000003, 0xC00000B7
X32_BIT = 0x40000000
FALLOCATE = {AUDIT_ARCH_X86_64: 285, AUDIT_ARCH_I386: 324, AUDIT_ARCH_AARCH64: 47}
RET_ALLOW, RET_EPERM = 0x7FFF0000, 0x00050001
LOAD_ARCH, LOAD_NR = (0x20, 0, 0, 4), (0x20, 0, 0, 0)


def _jeq(value, jump_true, jump_false):
    return (0x15, jump_true, jump_false, value)


# (code, jt, jf, k) instructions; a jump's offsets count from the next instruction.
FILTER = [
    LOAD_ARCH,                                          # 0
    _jeq(AUDIT_ARCH_X86_64, 0, 4),                      # 1: x86-64 -> 2, else -> 6
    LOAD_NR,                                            # 2
    _jeq(FALLOCATE[AUDIT_ARCH_X86_64], 9, 0),           # 3: -> 13 (EPERM)
    _jeq(FALLOCATE[AUDIT_ARCH_X86_64] | X32_BIT, 8, 0),  # 4: -> 13, else -> 5
    (0x06, 0, 0, RET_ALLOW),                            # 5
    _jeq(AUDIT_ARCH_I386, 0, 2),                        # 6: i386 -> 7, else -> 9
    LOAD_NR,                                            # 7
    _jeq(FALLOCATE[AUDIT_ARCH_I386], 4, 3),             # 8: -> 13, else -> 12
    _jeq(AUDIT_ARCH_AARCH64, 0, 2),                     # 9: AArch64 -> 10, else -> 12
    LOAD_NR,                                            # 10
    _jeq(FALLOCATE[AUDIT_ARCH_AARCH64], 1, 0),          # 11: -> 13, else -> 12
    (0x06, 0, 0, RET_ALLOW),                            # 12
    (0x06, 0, 0, RET_EPERM),                            # 13
]

GUARD_CODE = f"""\
import ctypes, os, resource, struct, sys
limit = int(sys.argv[1])
if limit > 0:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
program = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *step) for step in {FILTER!r}))
class Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
libc = ctypes.CDLL(None, use_errno=True)
filter_program = Program({len(FILTER)}, ctypes.addressof(program))
if libc.prctl(38, 1, 0, 0, 0) or libc.prctl(22, 2, ctypes.byref(filter_program), 0, 0):
    sys.exit("the kernel's guard could not install its seccomp filter (errno %d)" % ctypes.get_errno())
os.execv(sys.argv[3], sys.argv[3:])
"""


def command(argv, file_size_limit):
    """``argv`` (a kernel's command line, a program's path first) started through the guard:
    no file past ``file_size_limit`` bytes (0: no limit), no fallocate."""
    if not sys.platform.startswith("linux"):
        return list(argv)
    return [sys.executable, "-S", "-c", GUARD_CODE, str(int(file_size_limit)), "--", *argv]
