"""Registers the ``browser`` marker (deselect with ``-m "not browser"``)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: renders a report in headless Chromium "
                            "(installs Debian's chromium when root and CI=true or "
                            "GRADKIT_INSTALL_CHROMIUM=1)")
