"""HTTP to the sync server: signed requests, one error vocabulary, retries for what may pass.

Every request is signed afresh (a new nonce) on every attempt, so a retry is never a replay.
Only network errors, 429 and 5xx are retried; a revoked device is told so at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import BinaryIO, NoReturn, TypeVar
from urllib.parse import urlsplit

import requests
import tenacity
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ValidationError

from sync_server import protocol
from sync_server.signatures import sign_request

log = logging.getLogger(__name__)

_M = TypeVar("_M", bound=BaseModel)
_R = TypeVar("_R")
# Small enough that a cut loses little: a read interrupted mid-chunk loses that chunk.
_DOWNLOAD_CHUNK = 16 * 1024
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class SyncError(Exception):
    """Base of every sync failure; `str()` is a plain sentence for the officer console."""


class TransientError(SyncError):
    """Worth trying again later: the network, a busy or failing server (429, 5xx)."""


class RefusedError(SyncError):
    """The server refused the request for a reason trying again will not fix."""

    def __init__(self, message: str, *, status: int, error: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error


class RevokedError(SyncError):
    """The server says this device is revoked: erase local data."""


class ClockSkewError(TransientError):
    """The signature's time was refused; the offset is corrected and the request retried."""


def check_server_url(url: str) -> str:
    """The server's base URL without a trailing slash: https, or http on loopback only."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{url!r} is not a server address (https://host[:port])")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ValueError("the server address must start with https:// (http only on this machine)")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("the server address must not carry a query, fragment or credentials")
    return url.strip().rstrip("/")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often one request is tried at once, and how long to wait between tries."""

    attempts: int = 4
    wait: tenacity.wait.wait_base = field(
        default_factory=lambda: tenacity.wait_random_exponential(multiplier=0.5, max=8, min=0.2)
    )
    sleep: Callable[[float], None] = time.sleep
    connect_timeout: float = 10.0
    read_timeout: float = 60.0


@dataclass(frozen=True, slots=True)
class DeviceCredentials:
    device_id: str
    private_key: Ed25519PrivateKey


class _Auth(requests.auth.AuthBase):
    """The device's RFC 9421 signature, with `created` on the server's clock.

    `sync_server.device_auth.DeviceAuth` signs with the device clock; a kiosk whose clock
    is wrong must sign with the server's time as last learned, so this passes `created`.
    """

    def __init__(self, credentials: DeviceCredentials, now: Callable[[], datetime]) -> None:
        self._credentials = credentials
        self._now = now

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if r.method is None or r.url is None:
            raise ValueError("a signed request needs a method and a URL")
        body = r.body if r.body is not None else b""
        if isinstance(body, str):
            body = body.encode("utf-8")
            r.body = body
            r.prepare_content_length(body)
        if not isinstance(body, bytes):
            raise TypeError("only in-memory bodies can be signed")
        sign_request(
            method=r.method,
            url=r.url,
            headers=r.headers,
            body=body,
            key_id=self._credentials.device_id,
            private_key=self._credentials.private_key,
            created=self._now(),
        )
        return r


@dataclass(frozen=True, slots=True)
class Download:
    """What a download call did: the ETag, the total size, and whether it resumed."""

    etag: str | None
    size: int
    resumed: bool


class Transport:
    """One server, one device: enrol, push, pull and pack downloads over `requests`."""

    def __init__(
        self,
        *,
        server_url: str,
        credentials: DeviceCredentials | None,
        clock_offset: timedelta = timedelta(0),
        retry: RetryPolicy | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        http: requests.Session | None = None,
    ) -> None:
        self.server_url = check_server_url(server_url)
        self.clock_offset = clock_offset
        self._credentials = credentials
        self._retry = retry or RetryPolicy()
        self._now = now
        self._http = http or requests.Session()

    def close(self) -> None:
        self._http.close()

    def server_now(self) -> datetime:
        return self._now() + self.clock_offset

    def learn_server_time(self, server_time: datetime) -> None:
        """Keep the server's clock in step from a response's `server_time`."""
        self.clock_offset = server_time - self._now()

    # --- the endpoints ------------------------------------------------------------------

    def enrol(self, body: protocol.EnrolRequest) -> protocol.EnrolResponse:
        """Spend an enrolment code. Tried once: a lost answer would have spent the code."""
        response = self._attempt(
            "POST", "/devices/enrol", body.model_dump_json().encode(), {}, signed=False
        )
        answer = _parse(response, protocol.EnrolResponse)
        self.learn_server_time(answer.server_time)
        return answer

    def push(self, body: bytes) -> protocol.PushResponse:
        """Push one encoded PushRequest body (the caller sizes it within the limits)."""
        answer = _parse(self._request("POST", "/sync/push", body), protocol.PushResponse)
        self.learn_server_time(answer.server_time)
        return answer

    def pull(self, cursor: str) -> protocol.PullResponse:
        path = "/sync/pull" + (f"?cursor={cursor}" if cursor else "")
        answer = _parse(self._request("GET", path, b""), protocol.PullResponse)
        self.learn_server_time(answer.server_time)
        return answer

    def download(
        self,
        url: str,
        out: BinaryIO,
        *,
        etag: str | None,
        on_etag: Callable[[str | None], None],
        on_bytes: Callable[[int], None] = lambda n: None,
    ) -> Download:
        """Download `url` into `out` (opened r+b/a+b), resuming after its current end when
        `etag` names the same representation; retried as a whole, each try resuming."""
        return self._retrying(lambda: self._download_once(url, out, etag, on_etag, on_bytes))

    # --- mechanics ----------------------------------------------------------------------

    def _download_once(
        self,
        url: str,
        out: BinaryIO,
        etag: str | None,
        on_etag: Callable[[str | None], None],
        on_bytes: Callable[[int], None],
    ) -> Download:
        have = out.seek(0, 2)
        headers = {}
        if have and etag:
            headers = {"Range": f"bytes={have}-", "If-Range": etag}
        try:
            opened = self._attempt("GET", url, b"", headers, signed=True, stream=True)
        except RefusedError as exc:
            if exc.status != 416:
                raise
            # What is here is longer than the pack: start again from nothing.
            out.seek(0)
            out.truncate()
            raise TransientError("the partial download did not fit the pack") from exc
        with opened as response:
            tag = response.headers.get("ETag")
            resumed = response.status_code == 206
            if resumed:
                first, size = _content_range(response.headers.get("Content-Range", ""))
                if first != have:
                    raise TransientError("the server resumed the download at the wrong place")
            else:
                out.seek(0)
                out.truncate()
                size = int(response.headers.get("Content-Length", "0"))
            on_etag(tag)
            for chunk in _chunks(response):
                out.write(chunk)
                on_bytes(len(chunk))
            out.flush()
            return Download(etag=tag, size=size, resumed=resumed)

    def _request(self, method: str, path: str, body: bytes) -> requests.Response:
        return self._retrying(lambda: self._attempt(method, path, body, {}, signed=True))

    def _retrying(self, call: Callable[[], _R]) -> _R:
        policy = self._retry
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(TransientError),
            stop=tenacity.stop_after_attempt(policy.attempts),
            wait=policy.wait,
            sleep=policy.sleep,
            reraise=True,
            before_sleep=lambda state: log.info(
                "sync request failed (try %d), trying again: %s",
                state.attempt_number,
                state.outcome.exception() if state.outcome else "",
            ),
        )

        def once_more_on_skew() -> _R:
            try:
                return call()
            except ClockSkewError:
                return call()  # signed again on the corrected clock; not a retry

        return retrying(once_more_on_skew)

    def _attempt(
        self,
        method: str,
        path: str,
        body: bytes,
        headers: dict[str, str],
        *,
        signed: bool,
        stream: bool = False,
    ) -> requests.Response:
        url = path if path.startswith(("https://", "http://")) else self._url(path)
        if body:
            headers = {**headers, "Content-Type": "application/json"}
        auth = None
        if signed:
            if self._credentials is None:
                raise RefusedError("this kiosk is not enrolled", status=0, error="not_enrolled")
            auth = _Auth(self._credentials, self.server_now)
        try:
            response = self._http.request(
                method,
                url,
                data=body or None,
                headers=headers,
                auth=auth,
                allow_redirects=False,  # a redirect would be unsigned
                stream=stream,
                timeout=(self._retry.connect_timeout, self._retry.read_timeout),
            )
        except requests.RequestException as exc:
            raise TransientError(f"cannot reach the server ({type(exc).__name__})") from exc
        if response.status_code < 300:
            return response
        status = response.status_code
        try:
            content, reply_headers = response.content, response.headers
        except requests.RequestException as exc:
            raise TransientError(f"the server's answer was cut short (HTTP {status})") from exc
        finally:
            response.close()
        # Not one reference to the response may ride on the exception's traceback: it pins
        # the socket open after the session closes, until the garbage collector runs.
        del response
        self._raise_for(status, content, reply_headers.get("Date"))

    def _url(self, path: str) -> str:
        if path.startswith(protocol.API_PREFIX):
            return f"{self.server_url}{path}"
        return f"{self.server_url}{protocol.API_PREFIX}{path}"

    def _raise_for(self, status: int, content: bytes, date: str | None) -> NoReturn:
        try:
            error = protocol.ErrorBody.model_validate_json(content)
            code, detail, wipe = error.error, error.detail, error.wipe
        except ValidationError:
            code, detail, wipe = f"http_{status}", "", False
        if status == 401 and (wipe or code == protocol.Reason.DEVICE_REVOKED):
            raise RevokedError("the server has revoked this device")
        if status == 401 and code == protocol.Reason.CREATED_STALE:
            self._correct_clock(date)
            raise ClockSkewError("this kiosk's clock is wrong; using the server's time")
        if status == 401 and code == protocol.Reason.NONCE_REUSED:
            raise TransientError("the server saw this request already; sending it afresh")
        if status == 429 or status >= 500:
            raise TransientError(f"the server is busy or failing (HTTP {status})")
        raise RefusedError(
            f"the server refused the request (HTTP {status} {code}: {detail[:200]})",
            status=status,
            error=code,
        )

    def _correct_clock(self, date: str | None) -> None:
        if not date:
            return
        try:
            server = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return
        if server.tzinfo is not None:
            self.learn_server_time(server)
            log.info("clock offset to the server is now %.0f s", self.clock_offset.total_seconds())


def _parse(response: requests.Response, model: type[_M]) -> _M:
    try:
        content = response.content
    except requests.RequestException as exc:
        raise TransientError("the server's answer was cut short") from exc
    finally:
        response.close()
    try:
        return model.model_validate_json(content)
    except ValidationError as exc:
        # A proxy or a dying server can garble an answer; asking again is the cure.
        raise TransientError(f"the server's answer was not understood ({model.__name__})") from exc


def _chunks(response: requests.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_content(_DOWNLOAD_CHUNK)
    except requests.RequestException as exc:
        raise TransientError("the download was cut short") from exc


def _content_range(value: str) -> tuple[int, int]:
    """(first byte, total size) from `bytes first-last/size`."""
    try:
        unit, _, rest = value.partition(" ")
        span, _, total = rest.partition("/")
        first = int(span.partition("-")[0])
        if unit != "bytes":
            raise ValueError(unit)
        return first, int(total)
    except ValueError as exc:
        raise TransientError(f"the server sent a bad Content-Range {value!r}") from exc
