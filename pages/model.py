"""Model: the shipped classifier's model card (data, protocol, figures, calibration, limits)."""

from __future__ import annotations

import streamlit as st

from ecg_core import config

st.title("Model")
st.warning("**Not a medical device.** Research and teaching software; every result needs a clinician's review.",
           icon=":material/health_and_safety:")
if not config.MODEL_CARD_JSON.exists():
    st.error("The model card (models/model_card.json) is missing: the classifier has not been trained yet. "
             "Train it with `make train`.", icon=":material/error:")
    st.stop()
