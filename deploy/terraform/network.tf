# The bot only connects out: Slack's Socket Mode (wss), Zendesk and Shortcut (https), DynamoDB (through the
# VPC's gateway endpoint). Nothing reaches it but monitoring: 9464 (metrics, /api) and 8080 (health).
resource "aws_security_group" "bot" {
  name        = "${var.name}-bot"
  description = "The ${var.name} bot: https out; metrics and health in from monitoring only"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_egress_rule" "https_out" {
  security_group_id = aws_security_group.bot.id
  description       = "Slack, Zendesk, Shortcut, AWS APIs over TLS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "from_monitoring" {
  for_each = {
    for pair in setproduct(var.monitoring_security_group_ids, [9464, 8080]) : "${pair[0]}-${pair[1]}" => pair
  }
  security_group_id            = aws_security_group.bot.id
  description                  = each.value[1] == 9464 ? "Prometheus / Grafana: /metrics and /api" : "health probes"
  ip_protocol                  = "tcp"
  from_port                    = each.value[1]
  to_port                      = each.value[1]
  referenced_security_group_id = each.value[0]
}

# Cloud Map: every task of the service is an A record of bot.<namespace>; Prometheus' dns_sd_configs reads
# it (deploy/prometheus/prometheus.yml).
resource "aws_service_discovery_private_dns_namespace" "bugtracker" {
  name        = var.service_discovery_namespace
  description = "Service discovery of the ${var.name} bot's tasks"
  vpc         = var.vpc_id
  tags        = var.tags
}

resource "aws_service_discovery_service" "bot" {
  name = "bot"

  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.bugtracker.id
    routing_policy = "MULTIVALUE"

    dns_records {
      type = "A"
      ttl  = 10
    }
  }

  health_check_custom_config {
    failure_threshold = 1
  }

  tags = var.tags
}
