"""The processes-shm model: worker processes whose units' data travels in shared memory.

A variant of the processes model (gbprocess.py) for sized workloads, measured as its own
model so that the cheaper way is shown, not hidden: what a program does when pickling its
data through a pipe costs too much. Each worker gets two ``multiprocessing.shared_memory``
blocks for each unit it may have in hand (gbpayload.AHEAD slots), one for the argument and
one for the output, each as large as the size. A unit then goes:

1. the parent copies the argument into the slot's argument block (one copy: the data a
   program produces has to land there, unless it was built in place);
2. a few bytes through the pipe name the slot and say how long the argument is;
3. the worker runs the kernel on a memoryview of the block (no copy) and copies the output
   into the slot's output block; a few bytes say how long that is;
4. the parent checks the output, copied out of the block (it is the one reader), before
   it hands the worker the slot again.

Everything else (start, warm-up, the paired serial units, fork's refusal) is the
processes model's. Python 3.8+ (``multiprocessing.shared_memory``); unsupported before.
"""

import gbload
import gbpayload
import gbprobe
import gbprocess
import gbprotocol


def _attach(shared_memory, name):
    """A block the parent created, opened here without this process tracking it.

    The parent created, tracks and unlinks every block. A worker started by it shares its
    resource tracker, which keeps a set of names: before 3.13, where attaching registers
    the name again (bpo-38119), that adds nothing, and an unregister here would take the
    parent's registration away (its unlink's then fails in the tracker with a KeyError).
    3.13 added ``track=False``: nothing is registered at all.
    """
    try:
        return shared_memory.SharedMemory(name=name, track=False)
    except TypeError:  # before 3.13
        return shared_memory.SharedMemory(name=name)


def _shm_loop(workload_path, conn, size, names):
    """Body of one worker process: units whose data lies in the two shared blocks."""
    from multiprocessing import shared_memory  # novm

    module = gbload.load_workload(workload_path)
    gbpayload.prepare(module, size)  # its own data, for the paired serial units
    blocks = [_attach(shared_memory, name) for name in names]
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:
                return
            if message is None:
                return
            if message[0] != "shm":
                conn.send(gbprocess.serve(module, message))
                continue
            slot, length = message[1], message[2]
            conn.send(_unit(module, blocks[2 * slot], blocks[2 * slot + 1], slot, length))
    finally:
        for block in blocks:
            block.close()


def _unit(module, given, out, slot, length):
    """One unit on block ``given``'s first ``length`` bytes: (("ok", (slot, output
    length)), seconds), the output copied into block ``out``; the copy is part of the unit."""
    start = gbprobe.clock()
    view = given.buf[:length]
    try:
        status, output = gbpayload.run_kernel(module, view)
        if status == "ok":
            size = len(output)
            if size > out.size:
                status, output = "crashed", "an output of %d bytes overflows its %d-byte " \
                    "block" % (size, out.size)  # fmt: skip
            else:
                out.buf[:size] = output
                output = (slot, size)
    finally:
        view.release()
    return (status, output), gbprobe.clock() - start


class ProcessesShm(gbprocess.Processes):
    """W worker processes; each unit's argument and output go through shared memory."""

    name = "processes-shm"
    needs_payload = True

    def __init__(self, workload_path, workers, start_method=None, size=None):
        try:
            from multiprocessing import shared_memory  # novm
        except ImportError:
            raise gbprotocol.unsupported(
                "%s has no multiprocessing.shared_memory (Python 3.8+)"
                % gbprobe.implementation(), model_wide=True,
            )  # fmt: skip
        gbprocess.Processes.__init__(self, workload_path, workers, start_method, size)
        # at least a byte: a block can't be empty, and a payload of 0 still travels
        capacity = max([1, len(self.local.expected)] + [len(a) for a in self.arguments])
        # per worker: an argument block and an output block for each of its slots
        self.blocks = [
            [shared_memory.SharedMemory(create=True, size=capacity)
             for _ in range(2 * gbpayload.AHEAD)]
            for _ in range(workers)
        ]  # fmt: skip
        self.given = [0] * workers  # units handed to each worker: the next one's slot

    target = staticmethod(_shm_loop)

    def _worker_args(self, conn):
        blocks = self.blocks[len(self.conns)]  # the worker being started: one per conn
        return (self.workload_path, conn, self.size, [b.name for b in blocks])

    def _give(self, index, argument):
        slot = self.given[index] % gbpayload.AHEAD
        self.given[index] += 1
        length = len(argument)
        self.blocks[index][2 * slot].buf[:length] = argument  # the one copy of the argument
        self.conns[index].send(("shm", slot, length))  # a few bytes: the pipe never fills

    def _take(self):
        index, (status, output), seconds = gbprocess.Processes._take(self)
        if status == "ok":  # the output, where it lies, for _check
            slot, size = output
            output = self.blocks[index][2 * slot + 1].buf[:size]
        return index, (status, output), seconds

    def _check(self, expected, output):
        """The output checked through its view, which is then let go: a block with a view
        still on it can't be closed (BufferError)."""
        try:  # one copy out: memoryview's == compares item by item, 20x slower (1 ms a MiB)
            return gbpayload.check_output(expected, output.tobytes())
        finally:
            output.release()

    def _stop_workers(self):
        try:
            gbprocess.Processes._stop_workers(self)
        finally:
            for mine in self.blocks:
                for block in mine:
                    try:
                        block.close()
                    except BufferError:
                        pass
                    block.unlink()
