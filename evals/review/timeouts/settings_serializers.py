"""A settings page's serializer: its upper-case fields name settings an administrator edits, they
are not settings themselves, so nothing here sends mail or logs users in."""

from rest_framework import serializers


class EmailSettingSerializer(serializers.Serializer):
    EMAIL_HOST = serializers.CharField(max_length=1024)
    EMAIL_PORT = serializers.IntegerField()


class LDAPSettingSerializer(serializers.Serializer):
    AUTH_LDAP_SERVER_URI = serializers.CharField(max_length=1024)
