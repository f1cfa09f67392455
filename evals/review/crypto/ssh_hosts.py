"""SSH clients that trust whatever host key answers first: a man in the middle gets the session
and the credentials sent over it. Known hosts with a rejecting policy are fine."""

import paramiko
from paramiko import AutoAddPolicy


class DeviceConnector:
    def __init__(self, address: str) -> None:
        self.address = address
        self.shell = paramiko.SSHClient()
        self.shell.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # expect: crypto

    def connect(self, username: str, key_file: str) -> None:
        self.shell.connect(self.address, username=username, key_filename=key_file, timeout=10)


class BackupUploader:
    def __init__(self) -> None:
        self.ssh = paramiko.SSHClient()
        self.ssh.set_missing_host_key_policy(AutoAddPolicy)  # expect: crypto


class VerifiedConnector:
    def __init__(self) -> None:
        self.shell = paramiko.SSHClient()
        self.shell.load_system_host_keys()
        self.shell.set_missing_host_key_policy(paramiko.RejectPolicy())
