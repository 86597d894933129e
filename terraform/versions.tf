terraform {
  required_version = ">= 1.5.0"

  required_providers {
    # 5.x: deletion_protection_enabled, point_in_time_recovery and GSI hash_key/range_key as used here.
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = var.aws_region
}
