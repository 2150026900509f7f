"""The incident datasets' export specs (the nightly data export's five datasets and the incident list's CSV),
imported by logic/datasets.py when one of them is asked for."""

from __future__ import annotations

from typing import Any

from export_service.logic.dataset_export import (
    NARROW as DATASET_NARROW,
)
from export_service.logic.dataset_export import (
    DatasetExportRequest,
    build_dataset_request,
    dataset_envelope,
    plan_dataset,
)
from export_service.logic.datasets import INCIDENT_LIST
from export_service.logic.export_engine import ExportSpec
from export_service.logic.incident_filters import IncidentFilter, build_incident_filter
from export_service.logic.incident_list import NARROW as LIST_NARROW
from export_service.logic.incident_list import list_envelope, plan_list_export, read_list_items
from export_service.models.api_keys import Permission
from export_service.models.incident_api import LIST_FIELDS, IncidentFilterParams
from export_service.models.incidents import DATASETS, Dataset, DatasetExportQuery


def _dataset_spec(dataset: Dataset) -> ExportSpec[DatasetExportRequest]:
    return ExportSpec(
        name=dataset.value,
        resource=dataset.value,
        permission=Permission.INCIDENTS_READ,
        query=DatasetExportQuery,
        kind="DatasetExport",
        narrow=DATASET_NARROW,
        build=lambda tenant, query, now: build_dataset_request(tenant, dataset.value, query, now),
        plan=lambda request, stores: plan_dataset(request, stores.incidents),
        read=lambda request, stores, parts, prefetch: stores.incidents.read_plan(request.dataset, parts, prefetch),
        counter=lambda stores: stores.incidents.count,
        columns=lambda request: DATASETS[request.dataset].columns,
        envelope=dataset_envelope,
        bounds=lambda request: (request.start, request.end, request.bounded),
        bom=lambda request: request.bom,
        prober=lambda stores: stores.incidents.prober(),
    )


INCIDENT_LIST_EXPORT: ExportSpec[IncidentFilter] = ExportSpec(
    name=INCIDENT_LIST,
    resource="incidents",  # as the list's CSV is named
    permission=Permission.INCIDENTS_READ,
    query=IncidentFilterParams,
    kind="IncidentList",
    narrow=LIST_NARROW,
    build=build_incident_filter,
    plan=lambda request, stores: plan_list_export(request, stores.incidents),
    read=lambda request, stores, parts, prefetch: read_list_items(stores.incidents, parts, prefetch),
    counter=lambda stores: stores.incidents.count,
    columns=lambda _request: LIST_FIELDS,
    envelope=list_envelope,
    bounds=lambda request: (request.start, request.end, request.bounded),
)

INCIDENT_EXPORTS: dict[str, ExportSpec[Any]] = {
    **{dataset.value: _dataset_spec(dataset) for dataset in Dataset},
    INCIDENT_LIST: INCIDENT_LIST_EXPORT,
}
