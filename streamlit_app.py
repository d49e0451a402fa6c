"""ECG arrhythmia workbench: the Streamlit dashboard (``streamlit run streamlit_app.py``).

The pages live in ``app_pages/`` (not ``pages/``: with a ``pages/`` folder, a deep link such as
``/tune`` as the server's first request makes Streamlit fall back to its folder-based navigation,
which bypasses this script) and stay thin: they read their widgets, call ``ecg_core`` and draw
the figures of ``ecg_core.plotting``.
"""

import streamlit as st

st.set_page_config(page_title="ECG arrhythmia workbench", page_icon=":material/monitor_heart:", layout="wide")

PAGES = [
    st.Page("app_pages/analyse.py", title="Analyse a recording", icon=":material/monitor_heart:", default=True),
    st.Page("app_pages/tune.py", title="Tune detection", icon=":material/tune:"),
    st.Page("app_pages/segments.py", title="Classify segments", icon=":material/view_column:"),
    st.Page("app_pages/model.py", title="Model", icon=":material/model_training:"),
]

page = st.navigation(PAGES)
with st.sidebar:
    st.caption(
        "Open ECG arrhythmia workbench: R-peak detection and AAMI beat classification (N, SVEB, VEB, F, Q).  \n"
        "**Not a medical device**: for research and teaching; every result needs a clinician's review.  \n"
        "Example data: MIT-BIH Arrhythmia Database, PhysioNet (ODC-By 1.0)."
    )
page.run()
