"""The benchmarks `make bench` runs. Never imported by the product (backoffice, buyer_portal,
workflows); run as `python -m bench [--scale]` and `python -m bench buyer`."""
