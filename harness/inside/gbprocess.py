"""The processes model: W long-lived worker processes, each fed its units by pipe.

The start method is the caller's choice (spawn, forkserver or fork) or the platform's
default, and is recorded with every run. fork is refused, as unsupported with the reason,
where it isn't safe:

- when this process already runs other threads: the child gets a copy of every lock as it
  was at that instant, including locks those threads held, and can deadlock on them (the
  reason CPython 3.12+ warns and 3.14 stopped defaulting to fork);
- on macOS, whose system libraries aren't fork-safe (bpo-33725).

Imported by gbmodels.make_model only. Same-syntax rule: this file must parse on Python 2.7
and 3.4+ (see gbprotocol.py); Jython has no multiprocessing and gets "unsupported".
"""

import sys
import threading

import gbload
import gbmodels
import gbpayload
import gbprobe
import gbprotocol
import gbunits

try:
    xrange
except NameError:  # Python 3
    xrange = range


def _multiprocessing():
    try:
        import multiprocessing
    except ImportError:
        raise gbprotocol.unsupported(
            "%s has no multiprocessing module" % gbprobe.implementation(), model_wide=True
        )
    if not hasattr(multiprocessing, "get_context"):
        raise gbprotocol.unsupported(
            "%s's multiprocessing has no start methods (Python 3.4+)" % gbprobe.implementation(),
            model_wide=True,
        )
    return multiprocessing


def fork_hazard():
    """Why fork isn't safe in this process right now, or None if it is."""
    if sys.platform == "darwin":
        return "macOS system libraries are not fork-safe (bpo-33725); use spawn or forkserver"
    others = threading.active_count() - 1
    if others:
        return (
            "this process already runs %d other thread(s), whose locks a forked child would "
            "inherit mid-use; use spawn or forkserver" % others
        )
    return None


def serve(module, message):
    """A worker's answer to one message: ("units", service, units), a round's units back
    to back; ("data", argument), one unit of a sized workload on the argument it brought."""
    if message[0] == "data":
        return gbpayload.timed_kernel(module, message[1])
    return gbunits.timed_outcomes(module, message[1], message[2])


def _send_loop(conn, outgoing):
    """A sender thread of the parent: each message it is given, pickled into the pipe."""
    while True:
        message = outgoing.get()
        if message is None:
            return
        try:
            conn.send(message)
        except (OSError, IOError):  # the worker went away; its round fails on the read
            return


def _process_loop(workload_path, conn, size=None):
    """Body of one worker process: load the workload once, then serve units."""
    module = gbload.load_workload(workload_path)
    if gbpayload.sized(module):
        gbpayload.prepare(module, size)  # its own data, for the paired serial units
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the parent went away
            return
        if message is None:
            return
        conn.send(serve(module, message))


class Processes(gbmodels.Model):
    """W long-lived worker processes, each fed its units for the round through its own pipe."""

    name = "processes"
    shares_memory = False

    def __init__(self, workload_path, workers, start_method=None, size=None):
        multiprocessing = _multiprocessing()
        gbmodels.Model.__init__(self, workload_path, workers, size)
        methods = multiprocessing.get_all_start_methods()  # novm
        if start_method is not None and start_method not in methods:
            raise gbprotocol.unsupported(
                "start method %r is not available here; %s has %s"
                % (start_method, gbprobe.implementation(), ", ".join(methods)),
                model_wide=True,
            )
        self.context = multiprocessing.get_context(start_method)  # novm
        self.start_method = self.context.get_start_method()
        self.conns = []
        self.procs = []
        self.outgoing = []  # per worker: the units its sender thread pickles into its pipe
        self.senders = []

    def _start_workers(self):
        if self.start_method == "fork":
            hazard = fork_hazard()
            if hazard:
                raise gbprotocol.unsupported("fork is unsafe here: " + hazard)
        for _ in xrange(self.workers):
            parent, child = self.context.Pipe()
            proc = self.context.Process(target=self.target, args=self._worker_args(child))
            proc.daemon = True
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)

    target = staticmethod(_process_loop)

    def _worker_args(self, conn):
        return (self.workload_path, conn, self.size)

    def _give(self, index, argument):
        if not self.senders:
            self._start_senders()
        self.outgoing[index].put(("data", argument))  # pickled, through the pipe

    def _start_senders(self):
        """A thread a worker that sends it its units, as a multiprocessing queue's feeder
        thread does. The parent never blocks on a full pipe then: with a unit on its way
        and a unit larger than a pipe holds, the worker waits for the parent to read its
        output while the parent waits for it to read the next argument, for ever."""
        for conn in self.conns:
            outgoing = gbmodels.queue.Queue()
            sender = threading.Thread(target=_send_loop, args=(conn, outgoing))
            sender.daemon = True
            sender.start()
            self.outgoing.append(outgoing)
            self.senders.append(sender)

    def _take(self):
        """The first answer any worker has sent: (index, outcome, seconds)."""
        from multiprocessing.connection import wait  # novm

        ready = wait(self.conns)[0]
        outcome, seconds = ready.recv()
        return self.conns.index(ready), outcome, seconds

    def _round(self, units):
        message = ("units", self.service, units)
        for conn in self.conns:
            conn.send(message)
        done, busy = [], []
        for conn in self.conns:
            outcomes, seconds = conn.recv()
            done.extend(outcomes)
            busy.append(seconds)
        self.busy = busy
        return done

    def _alone(self, index, units):
        conn = self.conns[index]
        conn.send(("units", self.service, units))
        return conn.recv()

    def _stop_workers(self):
        for outgoing in self.outgoing:
            outgoing.put(None)
        for sender in self.senders:
            sender.join(5)
        for conn in self.conns:
            try:
                conn.send(None)
            except (OSError, IOError):
                pass
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():  # wedged in a unit: don't leave it behind
                proc.terminate()
                proc.join(5)
        for conn in self.conns:
            conn.close()
