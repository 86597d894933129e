"""The drill-down API's token in tests: servers started with API_ACCESS answer /api/* to AUTHORIZATION."""

from bot.metrics.access import Access

API_TOKEN = "test-drilldown-api-token"
API_ACCESS = Access(api_token=API_TOKEN)
AUTHORIZATION = {"Authorization": f"Bearer {API_TOKEN}"}
