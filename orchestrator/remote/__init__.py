"""Reaching inventory hosts: ansible-runner, the inventory and layout, the host playbooks, client secrets."""
