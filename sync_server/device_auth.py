"""A `requests` auth hook that signs every kiosk request with the device's Ed25519 key."""

from __future__ import annotations

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync_server.signatures import sign_request


class DeviceAuth(requests.auth.AuthBase):
    """Signs each prepared request; send with allow_redirects=False, as a redirect is unsigned."""

    def __init__(self, key_id: str, private_key: Ed25519PrivateKey) -> None:
        self.key_id = key_id
        self._private_key = private_key

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if r.method is None or r.url is None:
            raise ValueError("DeviceAuth needs a prepared request with a method and URL")
        body = r.body
        if body is None:
            body = b""
        elif isinstance(body, str):
            # Sign and send the same bytes, whatever encoding requests would have chosen.
            body = body.encode("utf-8")
            r.body = body
            r.prepare_content_length(body)
        elif not isinstance(body, bytes):
            raise TypeError("DeviceAuth signs only in-memory bodies; a stream cannot be digested")
        sign_request(
            method=r.method,
            url=r.url,
            headers=r.headers,
            body=body,
            key_id=self.key_id,
            private_key=self._private_key,
        )
        return r
