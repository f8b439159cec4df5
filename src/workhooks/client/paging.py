"""Walks over linked pages: items one by one or a page at a time, and the ``deltaLink`` at the end.

A walk follows ``nextLink`` until it is absent (an empty page is not the end). When the last
page carries a ``deltaLink``, the walk keeps it in ``delta_link`` for the next changes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import Generic, TypeVar

__all__ = ["AsyncWalk", "PageOf", "Walk"]

T = TypeVar("T")

# One page: its items and, on the last page of a delta, the deltaLink.
PageOf = tuple[list[T], str | None]


class _Link:
    """The deltaLink seen so far."""

    def __init__(self) -> None:
        self.value: str | None = None

    def keep(self, link: str | None) -> None:
        if link is not None:
            self.value = link

    def get(self) -> str:
        if self.value is None:
            raise RuntimeError("the walk has no deltaLink (yet): iterate it to its end first")
        return self.value


class Walk(Generic[T]):
    """Items of consecutive pages (synchronous); ``delta_link`` once the walk is done."""

    def __init__(self, pages: Iterator[PageOf[T]]) -> None:
        self._pages = pages
        self._buffer: deque[T] = deque()
        self._link = _Link()

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        while not self._buffer:
            items, link = next(self._pages)
            self._link.keep(link)
            self._buffer.extend(items)
        return self._buffer.popleft()

    def pages(self) -> Iterator[list[T]]:
        """The remaining items a page at a time (to write each page in one transaction)."""
        if self._buffer:
            yield list(self._buffer)
            self._buffer.clear()
        for items, link in self._pages:
            self._link.keep(link)
            yield items

    @property
    def delta_link(self) -> str:
        """The link to the changes after this walk; raises ``RuntimeError`` before the end."""
        return self._link.get()


class AsyncWalk(Generic[T]):
    """Items of consecutive pages (asynchronous); ``delta_link`` once the walk is done."""

    def __init__(self, pages: AsyncIterator[PageOf[T]]) -> None:
        self._pages = pages
        self._buffer: deque[T] = deque()
        self._link = _Link()

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        while not self._buffer:
            items, link = await anext(self._pages)
            self._link.keep(link)
            self._buffer.extend(items)
        return self._buffer.popleft()

    async def pages(self) -> AsyncIterator[list[T]]:
        """The remaining items a page at a time (to write each page in one transaction)."""
        if self._buffer:
            yield list(self._buffer)
            self._buffer.clear()
        async for items, link in self._pages:
            self._link.keep(link)
            yield items

    @property
    def delta_link(self) -> str:
        """The link to the changes after this walk; raises ``RuntimeError`` before the end."""
        return self._link.get()
