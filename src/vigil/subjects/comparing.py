"""Approved subject requests compared in the background, for a process that serves people
(the API): the approver's call waits WAIT_S for the answer at most, and returns the request
still being compared where every camera's archive takes longer to read (at 10 million
sightings, minutes). One request is compared at a time, as each reads the
whole archive. A request left being compared by a process that stopped (its photos'
descriptors are kept until it is answered) is compared when the next one starts; where two
processes compare the same request, the second's answer is refused and dropped."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, wait

from sqlalchemy.exc import SQLAlchemyError

from vigil.errors import VigilError
from vigil.subjects.requests import SubjectRequests

logger = logging.getLogger(__name__)
WAIT_S = 10.0


class Comparisons:
    def __init__(self, requests: SubjectRequests, wait_s: float = WAIT_S) -> None:
        self.requests = requests
        self.wait_s = wait_s
        self._worker: ThreadPoolExecutor | None = None

    def start(self) -> None:
        """Compare requests approved from now on in the background, and those left being
        compared."""
        if self._worker is not None:
            return
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="subject-comparison")
        self.requests.approved.append(self.submit)
        for request_id in self.requests.comparing():
            self._worker.submit(self._compare, request_id)

    def submit(self, request_id: int) -> None:
        """Compare the request, waiting for it ``wait_s`` at most."""
        if self._worker is not None:
            wait([self._worker.submit(self._compare, request_id)], timeout=self.wait_s)

    def _compare(self, request_id: int) -> None:
        try:
            self.requests.compare(request_id)
        except (SQLAlchemyError, VigilError) as exc:  # left being compared: the next start
            logger.warning("subject request %d was not compared: %s", request_id, exc)

    def close(self) -> None:
        """Wait for the comparison under way; those queued are left for the next start."""
        if self._worker is not None:
            self.requests.approved.remove(self.submit)
            self._worker.shutdown(wait=True, cancel_futures=True)
            self._worker = None
