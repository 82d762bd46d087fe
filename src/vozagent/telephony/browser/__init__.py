"""The ``browser`` carrier: answer a call in a web page (see :mod:`.carrier`)."""
