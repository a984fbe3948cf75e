"""`make bench`: every benchmark in turn."""

from __future__ import annotations

from bench import api_list

if __name__ == "__main__":
    api_list.main()
