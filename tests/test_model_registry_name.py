"""The MLflow model registry commands live in retail_forecasting.model_registry; the old module
name still resolves for champion versions pickled under it."""

from __future__ import annotations

import pickle


def test_a_champion_pickled_under_the_old_module_name_still_loads():
    from retail_forecasting.model_registry import ChampionPyfunc

    # what cloudpickle wrote for the class before the rename (a reference by module and name)
    assert pickle.loads(b"cretail_forecasting.registry\nChampionPyfunc\n.") is ChampionPyfunc
    assert ChampionPyfunc.__module__ == "retail_forecasting.model_registry"
