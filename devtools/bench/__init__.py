"""The benchmark (``python -m devtools.bench``, ``make bench``): exports through the real handlers against DynamoDB
Local and moto, next to what reading the same data costs at the least.

- ``__main__``: the command line and the order of the sections;
- ``audit``: the synchronous audit export against the bare read floor;
- ``people``: the PDF report and the localized exports;
- ``jobs`` (with ``job_stack``, ``job_worker``, ``job_results``): the asynchronous export job;
- ``incidents``: the incident summary and distribution;
- ``baselines``: the bare boto3 read and the raw HTTP read the exports are compared with;
- ``common``, ``loading``, ``memory``, ``coldstart``: the shared harness (output, environment, events, timed and
  traced calls, loading generated records, peak RSS, the handler's cold import).
"""
