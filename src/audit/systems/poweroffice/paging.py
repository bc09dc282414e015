"""How a list is read page by page, one small strategy object per API generation.

A paginator is asked three things, in this order, for each page (the shape of dlt's REST
client paginators):

- :meth:`init_request` puts the first page's parameters into the query;
- :meth:`update_state` looks at the answer (status, records) and decides whether another
  page exists;
- :meth:`update_request` moves the query to the next page.

v2 (:class:`PageNumberPaginator`): ``PageNumber`` (1-based) and ``PageSize``. How the API
signals a next page is unconfirmed, so the default stops at the first page shorter than
``PageSize``, an empty page, or a ``204 No Content``.

v1 (:class:`ODataPaginator`): ``$skip``/``$top``; it stops at the first short page. The
wrapper's ``count`` is not used as a total, since whether it counts the page or the whole
result is not documented.
"""

from __future__ import annotations

from typing import Any, Protocol


class Paginator(Protocol):
    has_next_page: bool

    def init_request(self, params: dict[str, Any]) -> None: ...

    def update_state(self, status: int, records: list[Any]) -> None: ...

    def update_request(self, params: dict[str, Any]) -> None: ...


class PageNumberPaginator:
    """v2 paging: ``PageNumber=1,2,...`` with a fixed ``PageSize``."""

    def __init__(self, page_size: int, first_page: int = 1):
        self.page_size = page_size
        self.page = first_page
        self.has_next_page = True

    def init_request(self, params: dict[str, Any]) -> None:
        params["PageNumber"] = self.page
        params["PageSize"] = self.page_size

    def update_state(self, status: int, records: list[Any]) -> None:
        self.has_next_page = status != 204 and len(records) >= self.page_size

    def update_request(self, params: dict[str, Any]) -> None:
        self.page += 1
        params["PageNumber"] = self.page


class ODataPaginator:
    """v1 paging: ``$skip`` grows by ``$top`` until a page is shorter than ``$top``."""

    def __init__(self, top: int):
        self.top = top
        self.skip = 0
        self.has_next_page = True

    def init_request(self, params: dict[str, Any]) -> None:
        params["$skip"] = self.skip
        params["$top"] = self.top

    def update_state(self, status: int, records: list[Any]) -> None:
        self.has_next_page = status != 204 and len(records) >= self.top

    def update_request(self, params: dict[str, Any]) -> None:
        self.skip += self.top
        params["$skip"] = self.skip


def paginator_for(api: str, page_size: int) -> Paginator:
    """A fresh paginator for one list read of generation ``api``."""
    return PageNumberPaginator(page_size) if api == "v2" else ODataPaginator(page_size)
