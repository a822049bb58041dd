"""The asyncio models: W tasks on one event loop, with or without threads for the work.

- ``asyncio``: W tasks on one loop in one thread. A generator kernel's I/O requests are
  awaited (non-blocking sockets, ``asyncio.sleep``), so W kernels wait side by side; a
  plain kernel runs on the loop itself and the W units take turns, as CPU work does in
  any asyncio program.
- ``asyncio-to-thread``: the same W tasks, each handing its units to a thread with
  ``asyncio.to_thread`` (``run_in_executor`` before 3.9), which is how asyncio code
  offloads CPU or blocking work. The loop's default executor has exactly W threads. As
  in every model, a task hands off once per round: one call runs its ``units`` units
  back to back in the thread (gbmodels.Model.round).

``start()`` creates the loop (and the executor), and the warm-up round runs W tasks at
once, so that the executor has started all W threads before any clock runs.

Python 3.5+ only: this file uses async/await, and gbmodels.make_model imports it only
where they exist (older interpreters and Jython report the models unsupported). It is
therefore checked against 3.5, not 2.7, in tests/test_workloads.py.
"""

import asyncio
import socket
import types
from concurrent.futures import ThreadPoolExecutor

import gbio
import gbmodels
import gbpayload
import gbprotocol
import gbunits


def _current_task():
    current = getattr(asyncio, "current_task", None)  # Python 3.7+
    return current() if current is not None else asyncio.Task.current_task()


async def _socket_call(loop, kind, call):
    """Await one socket call, cancelled after IO_TIMEOUT.

    A timer that cancels this task costs far less than ``asyncio.wait_for``, which wraps
    each call in a task of its own: on PyPy that took a tenth off the echo workload's
    speedup at 4 workers.
    """
    timer = loop.call_later(gbio.IO_TIMEOUT, _current_task().cancel)
    try:
        return await call
    except asyncio.CancelledError:
        raise gbprotocol.WorkloadFailure(
            "crashed", "%s: no progress within %s s" % (kind, gbio.IO_TIMEOUT)
        )
    finally:
        timer.cancel()


async def drive(steps, loop):
    """Await each request a generator kernel yields; return its result.

    As in gbio.drive_blocking, the connections opened for a unit are closed when it
    ends, however it ends.
    """
    opened = []
    reply = None
    try:
        while True:
            try:
                request = steps.send(reply)
            except StopIteration as stop:
                return stop.value
            kind, args = request[0], request[1:]
            reply = None
            if kind == "result":
                return args[0]
            if kind == "sleep":
                await asyncio.sleep(args[0])
            elif kind == "connect":
                conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                opened.append(conn)
                conn.setblocking(False)
                await _socket_call(loop, kind, loop.sock_connect(conn, tuple(args[0])))
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                reply = conn
            elif kind == "send":
                await _socket_call(loop, kind, loop.sock_sendall(*args))
            elif kind == "recv":
                reply = await _socket_call(loop, kind, loop.sock_recv(*args))
            elif kind == "close":
                args[0].close()
            else:
                raise gbio.unknown_request(request)
    finally:
        steps.close()
        for conn in opened:
            conn.close()


class AsyncioTasks(gbmodels.Model):
    """W tasks on one event loop; I/O requests are awaited, CPU work takes turns."""

    name = "asyncio"
    streams = False  # a sized workload's task passes its argument by reference (_unit)

    def _start_workers(self):
        self.loop = asyncio.new_event_loop()

    async def _unit(self, index=0, args=()):
        module = self.module
        try:
            if self.sized:  # the task's own argument, by reference; the output checked
                output = module.kernel(self.arguments[index])
                return gbpayload.check_output(self.local.expected, output)
            got = module.kernel(*args)
            if isinstance(got, types.GeneratorType):
                got = await drive(got, self.loop)
            return ("ok", gbunits.check(module, got))
        except gbprotocol.WorkloadFailure as exc:
            return (exc.status, exc.detail)
        except Exception:
            import traceback

            return ("crashed", traceback.format_exc())

    async def _units(self, units, index=0):
        """One task's units, back to back, ending at the first failure."""
        done = []
        args = gbunits.kernel_args(self.module, self.service)  # once, not in each unit
        for _ in range(units):
            done.append(await self._unit(index, args))
            if done[-1][0] != "ok":
                break
        return done

    async def _gather(self, units):
        return await asyncio.gather(*[self._units(units, i) for i in range(self.workers)])

    def _round(self, units):
        return [one for done in self.loop.run_until_complete(self._gather(units)) for one in done]

    def _stop_workers(self):
        loop = getattr(self, "loop", None)
        if loop is not None:
            loop.close()


class AsyncioToThread(AsyncioTasks):
    """W tasks on one loop, each awaiting its round's units, run in one of W executor threads."""

    name = "asyncio-to-thread"

    def _start_workers(self):
        AsyncioTasks._start_workers(self)
        self.executor = ThreadPoolExecutor(max_workers=self.workers)
        self.loop.set_default_executor(self.executor)

    async def _units(self, units, index=0):
        """One task's units in one hand-off: a thread runs them back to back, timing them.

        A sized workload's task hands each unit over on its own, with its argument, as
        asyncio code awaits one ``to_thread`` call an item; the output comes back and is
        checked on the loop."""
        if not self.sized:
            return await self._off((gbunits.timed_outcomes, self.module, self.service, units))
        done, busy = [], 0.0
        for _ in range(units):
            call = (gbpayload.timed_kernel, self.module, self.arguments[index])
            (status, output), seconds = await self._off(call)
            busy += seconds
            if status == "ok":
                status, output = gbpayload.check_output(self.local.expected, output)
            done.append((status, output))
            if status != "ok":
                break
        return done, busy

    async def _off(self, call):
        to_thread = getattr(asyncio, "to_thread", None)  # Python 3.9+
        if to_thread is not None:
            return await to_thread(*call)
        return await self.loop.run_in_executor(None, *call)

    def _round(self, units):
        done, busy = [], []
        for outcomes, seconds in self.loop.run_until_complete(self._gather(units)):
            done.extend(outcomes)
            busy.append(seconds)
        self.busy = busy
        return done

    def threads_started(self):
        """How many threads the executor has started (W once warm)."""
        return len(self.executor._threads)

    def _stop_workers(self):
        executor = getattr(self, "executor", None)
        if executor is not None:
            executor.shutdown(wait=True)
        AsyncioTasks._stop_workers(self)


ASYNC_MODELS = {"asyncio": AsyncioTasks, "asyncio-to-thread": AsyncioToThread}
