"""How a list is read page by page, one small strategy object per API generation.

A paginator is asked three things, in this order, for each page (the shape of dlt's REST
client paginators):

- :meth:`init_request` puts the first page's parameters into the query;
- :meth:`update_state` looks at the answer (status, records) and decides whether another
  page exists;
- :meth:`update_request` moves the query to the next page.

v2 (:class:`PageNumberPaginator`): ``PageNumber`` (1-based) and ``PageSize`` (v2 OpenAPI,
``paths./Customers.get`` parameter ``resourceParameter`` ->
``components.schemas.ResourceParameters``: ``PageSize`` 5000 by default, ``MaxPageSize``
20000; the same on ``/Suppliers`` and ``/ContactPersons``), and ``204`` "when there is no
content to return" (``paths./Customers.get.responses.204``). How the API signals a next
page the document does not say, so the default stops at the first page shorter than
``PageSize``, an empty page, or a ``204 No Content`` (README, "What the defaults assume").

v1 (:class:`ODataPaginator`): ``$skip``/``$top`` with ``$orderby=Id``; it stops at the
first short page. PowerOffice/go-api-documentation, ``docs/api/rest/filtering.md``:
"skip will not work without $top and $orderby", "there is no standard order on most
queries ... $orderby modification should always be included", "orderby must be
lowercase, and properties that should be ordered must be in Pascal casing". The same
page says the wrapper's ``count`` is the total of the filtered set; it is not needed,
since a short page ends the list anyway.
"""

from __future__ import annotations

from typing import Any, Protocol


class Paginator(Protocol):
    has_next_page: bool

    def init_request(self, params: dict[str, Any]) -> None: ...

    def update_state(self, status: int, records: list[Any]) -> None: ...

    def update_request(self, params: dict[str, Any]) -> None: ...


class _StepPaginator:
    """Paging by a position parameter that moves ``step`` per page beside a fixed size
    parameter; it stops at a ``204``, an empty page or the first page shorter than the size."""

    position_param = ""
    size_param = ""

    def __init__(self, size: int, position: int, step: int):
        self.size = size
        self.position = position
        self.step = step
        self.has_next_page = True

    def init_request(self, params: dict[str, Any]) -> None:
        params[self.position_param] = self.position
        params[self.size_param] = self.size

    def update_state(self, status: int, records: list[Any]) -> None:
        self.has_next_page = status != 204 and len(records) >= self.size

    def update_request(self, params: dict[str, Any]) -> None:
        self.position += self.step
        params[self.position_param] = self.position


class PageNumberPaginator(_StepPaginator):
    """v2 paging: ``PageNumber=1,2,...`` with a fixed ``PageSize``."""

    position_param, size_param = "PageNumber", "PageSize"

    def __init__(self, page_size: int, first_page: int = 1):
        super().__init__(page_size, first_page, step=1)


class ODataPaginator(_StepPaginator):
    """v1 paging: ``$skip`` grows by ``$top`` until a page is shorter than ``$top``; every
    page is ordered by ``order_by`` (a PascalCase field, ``Id`` by default), without
    which v1 does not page (``docs/api/rest/filtering.md``)."""

    position_param, size_param = "$skip", "$top"

    def __init__(self, top: int, order_by: str = "Id"):
        super().__init__(top, 0, step=top)
        self.order_by = order_by

    def init_request(self, params: dict[str, Any]) -> None:
        super().init_request(params)
        params["$orderby"] = self.order_by


def paginator_for(api: str, page_size: int) -> Paginator:
    """A fresh paginator for one list read of generation ``api``."""
    return PageNumberPaginator(page_size) if api == "v2" else ODataPaginator(page_size)
