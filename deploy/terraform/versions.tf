# The ECS side of a deployment: cluster, roles, secrets, network, service discovery, the service.
# A root module of its own, beside terraform/ (the table): the table outlives any deployment of the bot,
# so it keeps its own state; this one reads the table's outputs as variables.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

# No default region anywhere: var.aws_region is required (terraform.tfvars), so a plan can never move to
# another region because a -var was forgotten.
provider "aws" {
  region = var.aws_region
}
