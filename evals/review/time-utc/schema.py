"""Naive DateTime columns and request models with plain datetime fields are flagged; aware
columns, validated fields and response models are not."""

from datetime import UTC, datetime

import sqlalchemy as sa
from pydantic import AwareDatetime, BaseModel, field_validator
from sqlalchemy import Column, DateTime, Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Booking(Base):
    __tablename__ = "bookings"
    id = Column(Integer, primary_key=True)
    starts_at = Column(DateTime, nullable=False)  # expect: time-utc
    created_at: Mapped[datetime] = mapped_column(sa.DateTime())  # expect: time-utc
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled_at = Column(sa.DateTime(timezone=True), nullable=True)


class BookingCreate(BaseModel):
    room_id: int
    starts_at: datetime  # expect: time-utc
    ends_at: datetime | None = None  # expect: time-utc


class BookingUpdate(BaseModel):
    starts_at: AwareDatetime
    ends_at: datetime

    @field_validator("ends_at")
    @classmethod
    def to_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("ends_at needs a UTC offset")
        return value.astimezone(UTC)


class BookingOut(BaseModel):
    id: int
    starts_at: datetime
