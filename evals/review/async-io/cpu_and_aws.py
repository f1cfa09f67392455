"""Slow password hashing and boto3 calls inside async handlers are flagged; the same work
offloaded to a thread, and boto3 helpers that only build local objects, are not."""

import asyncio

import bcrypt
import boto3

s3 = boto3.client("s3")


async def login(password: bytes, stored: bytes) -> bool:
    return bcrypt.checkpw(password, stored)  # expect: async-io


async def register(password: bytes) -> bytes:
    return bcrypt.hashpw(password, bcrypt.gensalt())  # expect: async-io


async def upload(key: str, body: bytes) -> None:
    s3.put_object(Bucket="media", Key=key, Body=body)  # expect: async-io


async def login_offloaded(password: bytes, stored: bytes) -> bool:
    return await asyncio.to_thread(bcrypt.checkpw, password, stored)


async def upload_offloaded(key: str, body: bytes) -> None:
    await asyncio.to_thread(s3.put_object, Bucket="media", Key=key, Body=body)


async def listing_pages(prefix: str) -> object:
    return s3.get_paginator("list_objects_v2")
