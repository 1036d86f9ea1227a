"""Limits on what a kernel and its processes use: memory, CPU time, processes, disk.

Nothing here knows about the lab: :class:`Watchdog` watches a process tree (and optionally every
process of one user) and a folder, and kills them all when one limit is passed.
"""
import os
import shutil
import subprocess
import threading
import time

import psutil  # a dependency of ipykernel, so always installed next to it

WATCHDOG_INTERVAL = 0.05
# A fork bomb is stopped long before it starves the machine; the lab itself starts one process.
MAX_PROCESSES = 64
# The work folder is on the grader's disk: its size and number of entries are checked every
# DISK_INTERVAL seconds (a walk of the lab's few dozen files takes well under a millisecond).
DISK_INTERVAL = 0.2
MAX_FOLDER_ENTRIES = 10_000


def user_processes(uid):
    """The live processes whose real uid is ``uid`` (zombies left out: they hold nothing)."""
    found = []
    for process in psutil.process_iter(["uids", "status"]):
        try:
            if process.info["uids"] and process.info["uids"].real == uid \
                    and process.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


class Watchdog(threading.Thread):
    """Polls a process tree's memory, CPU time and size, and kills the whole tree above a limit.

    ``pid`` is the tree's root (the kernel, or the sandbox around it); with ``uid``, every process
    of that user counts too (a kernel run as an unprivileged user: a process that double-forked
    out of the tree is still the user's). Memory is the sum of every
    member's resident set; CPU time adds each member's own and that of its finished children, so
    work done in short-lived subprocesses counts too. ``folders`` are the folders the kernel may
    write: the disk their files take together (allocated blocks) may not pass
    ``disk_limit_mb``, nor their entries :data:`MAX_FOLDER_ENTRIES`. ``None`` disables a limit.
    After a kill, ``exceeded`` says which limit, in words.
    """

    def __init__(self, pid, memory_limit_mb=None, cpu_limit_seconds=None,
                 max_processes=MAX_PROCESSES, folders=(), disk_limit_mb=None, uid=None):
        super().__init__(daemon=True)
        self.pid, self.uid = pid, uid
        self.memory_limit_mb, self.cpu_limit_seconds = memory_limit_mb, cpu_limit_seconds
        self.max_processes = max_processes
        self.folders, self.disk_limit_mb = list(folders), disk_limit_mb
        self._next_disk_check = 0.0
        self.peak_bytes = 0
        self.cpu_seconds = 0.0
        self.exceeded = ""
        self._stop_event = threading.Event()

    def run(self):
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop_event.wait(WATCHDOG_INTERVAL):
            try:
                family = [root] + root.children(recursive=True)
            except psutil.NoSuchProcess:
                return
            if self.uid is not None:  # and whatever left the tree but still runs as the user
                known = {member.pid for member in family}
                family += [process for process in user_processes(self.uid)
                           if process.pid not in known]
            used, cpu = 0, 0.0
            for member in family:
                try:
                    used += member.memory_info().rss
                    times = member.cpu_times()
                    cpu += times.user + times.system + times.children_user + times.children_system
                except psutil.NoSuchProcess:
                    pass  # ended between the listing and the reading
            self.peak_bytes = max(self.peak_bytes, used)
            self.cpu_seconds = max(self.cpu_seconds, cpu)
            self.exceeded = self._limit_exceeded(used, cpu, len(family)) or self._disk_exceeded()
            if self.exceeded:
                for member in family:
                    try:
                        member.kill()
                    except psutil.NoSuchProcess:
                        pass
                return

    def _limit_exceeded(self, used_bytes, cpu_seconds, processes):
        if self.memory_limit_mb is not None and used_bytes > self.memory_limit_mb * 2**20:
            return f"memory limit of {self.memory_limit_mb} MB exceeded"
        if self.cpu_limit_seconds is not None and cpu_seconds > self.cpu_limit_seconds:
            return f"CPU time limit of {self.cpu_limit_seconds:g} s exceeded"
        if self.max_processes is not None and processes > self.max_processes:
            return f"more than {self.max_processes} processes started"
        return ""

    def _disk_exceeded(self):
        if not self.folders or self.disk_limit_mb is None \
                or time.monotonic() < self._next_disk_check:
            return ""
        self._next_disk_check = time.monotonic() + DISK_INTERVAL
        limit = self.disk_limit_mb * 2**20
        used = entries = 0
        for number, folder in enumerate(self.folders):
            more_bytes, more_entries = folder_usage(folder, limit - used,
                                                    MAX_FOLDER_ENTRIES - entries)
            used, entries = used + more_bytes, entries + more_entries
            where = "the work folder" if number == 0 else "the kernel's folders"
            if used > limit:
                return f"disk limit of {self.disk_limit_mb} MB exceeded in {where}"
            if entries > MAX_FOLDER_ENTRIES:
                return f"more than {MAX_FOLDER_ENTRIES} files and folders in {where}"
        return ""

    def stop(self):
        self._stop_event.set()


def folder_usage(folder, stop_above_bytes=None, stop_above_entries=None):
    """(bytes of disk allocated, number of files and folders) under ``folder``, symbolic links
    not followed; the walk stops early once either passes its ``stop_above`` bound.

    Allocated blocks, not sizes: a sparse file (``truncate`` to a terabyte) takes no disk.
    """
    used, entries, pending = 0, 0, [folder]
    while pending:
        try:
            with os.scandir(pending.pop()) as listing:
                for entry in listing:
                    entries += 1
                    try:
                        used += entry.stat(follow_symlinks=False).st_blocks * 512
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                    except OSError:
                        continue  # removed meanwhile
                    if (stop_above_bytes is not None and used > stop_above_bytes) or (
                            stop_above_entries is not None and entries > stop_above_entries):
                        return used, entries
        except OSError:
            continue
    return used, entries


def remove_tree(folder):
    """Delete ``folder`` and everything in it, whatever it holds; never raises.

    A kernel can leave a tree thousands of folders deep, on which shutil.rmtree (recursive)
    raises RecursionError; ``rm -rf`` walks it without recursion."""
    try:
        shutil.rmtree(folder)
        return
    except FileNotFoundError:
        return
    except (OSError, RecursionError):
        pass
    subprocess.run(["rm", "-rf", "--", str(folder)], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
