"""The service's own vocabulary; the contract's request bodies are shared with the sandbox server
(``invite_service.adapters.telegram.contract``)."""

from __future__ import annotations

from typing import Literal

Platform = Literal["telegram", "sandbox"]
