"""Unit tests import the collection as ansible_collections.mesos.xfs_quota (make units sets PYTHONPATH)."""
