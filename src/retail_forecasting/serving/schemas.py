"""Request and response bodies of the serving API (pydantic; they make the OpenAPI docs)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

Markdown = float | None
ID_MAX = 2**31 - 1


class ForecastRow(BaseModel):
    """One week of one series, as a row of Kaggle's test.csv."""

    model_config = ConfigDict(extra="forbid")

    store: int = Field(ge=0, le=ID_MAX, description="Store id (Kaggle Store)", examples=[1])
    dept: int = Field(ge=0, le=ID_MAX, description="Department id (Kaggle Dept)", examples=[1])
    week: date = Field(
        description="The Friday that ends the week (YYYY-MM-DD, Kaggle Date)",
        examples=["2012-11-02"],
    )
    is_holiday: bool | None = Field(
        None,
        description="Kaggle IsHoliday; default: the calendar's "
        "flag (Super Bowl, Labor Day, Thanksgiving, Christmas weeks)",
    )
    markdown1: Markdown = Field(
        None, allow_inf_nan=False, description="planned markdown (optional)"
    )
    markdown2: Markdown = Field(None, allow_inf_nan=False)
    markdown3: Markdown = Field(None, allow_inf_nan=False)
    markdown4: Markdown = Field(None, allow_inf_nan=False)
    markdown5: Markdown = Field(None, allow_inf_nan=False)


class SeriesKey(BaseModel):
    """A store-department series: forecast every week of the model's horizon."""

    model_config = ConfigDict(extra="forbid")

    store: int = Field(ge=0, le=ID_MAX, examples=[1])
    dept: int = Field(ge=0, le=ID_MAX, examples=[1])


class ForecastRequest(BaseModel):
    """Either ``rows`` (chosen weeks) or ``series`` (all horizon weeks of each series)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"series": [{"store": 1, "dept": 1}]},
                {
                    "rows": [
                        {"store": 1, "dept": 1, "week": "2012-11-02"},
                        {
                            "store": 1,
                            "dept": 1,
                            "week": "2012-11-23",
                            "is_holiday": True,
                            "markdown1": 500.0,
                        },
                    ]
                },
            ]
        },
    )

    rows: list[ForecastRow] | None = Field(None, min_length=1)
    series: list[SeriesKey] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def one_of(self) -> ForecastRequest:
        if (self.rows is None) == (self.series is None):
            raise ValueError(
                "give exactly one of 'rows' (store, dept, week[, is_holiday, "
                "markdown1..5]) or 'series' (store, dept: every horizon week)"
            )
        return self


class ModelRef(BaseModel):
    name: str
    alias: str
    version: str


class ForecastPoint(BaseModel):
    """One forecast; value columns the model adds (e.g. ``q0.1``, ``q0.9``) follow under
    their own names."""

    model_config = ConfigDict(extra="allow")

    store: int
    dept: int
    week: str
    is_holiday: bool
    forecast_basis: str = Field(description="model | new_series | unseen_department (forecast 0)")
    weekly_sales: float


class ForecastResponse(BaseModel):
    model: ModelRef
    forecasts: list[ForecastPoint]


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorResponse(BaseModel):
    detail: list[ErrorItem] | str
    message: str | None = None
    example: dict | None = None


EXAMPLE_REQUEST = {"rows": [{"store": 1, "dept": 1, "week": "2012-11-02", "is_holiday": False}]}
