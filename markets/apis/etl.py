"""The ETL jobs (django-celery-beat rows): list, detail with recent runs, run now, enable,
disable; and the freshness status."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import selectors as core_selectors
from core import services as core_services
from markets import selectors
from markets.serializers.etl import EtlJobDetailSerializer, EtlJobSerializer, EtlStatusSerializer
from markets.serializers.ingestion import TaskEnqueuedSerializer

from . import staff_audit


def _job_or_404(job_id: int):  # type: ignore[no-untyped-def]
    job = core_selectors.periodic_task_get(job_id=job_id)
    if job is None:
        raise NotFound("no such job")
    return job


class EtlJobListApi(APIView):
    @extend_schema(
        tags=["etl"], summary="Periodic jobs (beat schedule)", responses=EtlJobSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        return Response(
            EtlJobSerializer(list(core_selectors.periodic_tasks()[:500]), many=True).data
        )


class EtlJobDetailApi(APIView):
    @extend_schema(
        tags=["etl"], summary="One job with its recent runs", responses=EtlJobDetailSerializer
    )
    def get(self, request: Request, job_id: int) -> Response:
        job = _job_or_404(job_id)
        runs = core_selectors.job_runs_for_task(task=job.task, limit=20)
        return Response(EtlJobDetailSerializer(job, context={"runs": runs}).data)


class EtlJobRunApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        tags=["etl"],
        summary="Run a job now (staff); enqueued after commit",
        request=None,
        responses={202: TaskEnqueuedSerializer},
    )
    def post(self, request: Request, job_id: int) -> Response:
        job = _job_or_404(job_id)
        with transaction.atomic():
            task_id = core_services.periodic_job_run_now(job_id=job.pk)
            staff_audit(
                request, "etl.job_run", target_type="job", target_id=job.pk, data={"job": job.name}
            )
        return Response(
            {"task_id": task_id, "task": job.task, "status": "queued"},
            status=status.HTTP_202_ACCEPTED,
        )


class _EtlJobToggleApi(APIView):
    permission_classes = [IsAdminUser]
    enabled = True

    @extend_schema(tags=["etl"], request=None, responses=EtlJobSerializer)
    def post(self, request: Request, job_id: int) -> Response:
        _job_or_404(job_id)
        job = core_services.periodic_job_set_enabled(job_id=job_id, enabled=self.enabled)
        action = "etl.job_enabled" if self.enabled else "etl.job_disabled"
        staff_audit(request, action, target_type="job", target_id=job_id, data={"job": job.name})
        return Response(EtlJobSerializer(job).data)


class EtlJobEnableApi(_EtlJobToggleApi):
    enabled = True


class EtlJobDisableApi(_EtlJobToggleApi):
    enabled = False


class EtlStatusApi(APIView):
    @extend_schema(
        tags=["etl"],
        summary="Freshness of quotes/candles and recent job runs",
        responses=EtlStatusSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(EtlStatusSerializer(selectors.etl_status()).data)
