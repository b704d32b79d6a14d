"""The retail calendar: holiday positions, the moving Christmas peak, holiday alignment."""

import pandas as pd

from retail_forecasting.calendar import aligned_previous_year, calendar_features, pre_christmas_days


def test_pre_christmas_days_explain_the_moving_peak():
    fridays = pd.to_datetime(
        [
            "2010-12-24",
            "2010-12-31",
            "2011-12-23",
            "2011-12-30",
            "2012-12-21",
            "2012-12-28",
            "2012-12-14",
        ]
    )
    # 2010: all seven days Dec 18-24 in the week ending Dec 24; 2011: six, then one (Dec 24);
    # 2012: four (Dec 18-21) and three (Dec 22-24); mid-December: none
    assert pre_christmas_days(fridays).tolist() == [7, 0, 6, 1, 4, 3, 0]


def test_weeks_to_holidays_are_signed_and_clipped():
    dates = pd.to_datetime(["2010-11-12", "2010-11-26", "2010-12-03", "2010-07-02"])
    features = calendar_features(dates, holiday_window=2)
    weeks_to = features["weeks_to_thanksgiving"].reindex(dates).tolist()
    assert weeks_to == [2, 0, -1, 3]  # 3 = the clip value: not near
    assert features.loc["2010-11-26", "week_of_year"] == 47


def test_alignment_follows_the_holiday_when_it_moves_by_53_weeks():
    dates = pd.to_datetime(["2013-11-29", "2013-11-22", "2013-12-06", "2013-07-05", "2011-11-25"])
    aligned = aligned_previous_year(dates, holiday_window=2)
    # Thanksgiving 2013 (Nov 29) is 53 weeks after Thanksgiving 2012 (Nov 23): weeks near it
    # map to the same offset from 2012's Thanksgiving; other weeks map 52 weeks back
    assert aligned[pd.Timestamp("2013-11-29")] == pd.Timestamp("2012-11-23")
    assert aligned[pd.Timestamp("2013-11-22")] == pd.Timestamp("2012-11-16")
    assert aligned[pd.Timestamp("2013-12-06")] == pd.Timestamp("2012-11-30")
    assert aligned[pd.Timestamp("2013-07-05")] == pd.Timestamp("2012-07-06")
    assert aligned[pd.Timestamp("2011-11-25")] == pd.Timestamp("2010-11-26")  # 52 weeks that year
