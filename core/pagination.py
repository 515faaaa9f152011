"""Bounded pagination: no client can ask for an unbounded page."""

from rest_framework.pagination import CursorPagination, PageNumberPagination


class BoundedPageNumberPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class BoundedCursorPagination(CursorPagination):
    """For time series: stable under inserts, O(1) per page."""

    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 5000
    ordering = "-open_time"
