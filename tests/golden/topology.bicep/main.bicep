// Azure Container Apps deployment of topology, written by aspirec.
// Deploy: az deployment group create -g GROUP -f main.bicep -p main.parameters.json

@description('Azure region of every resource')
param location string = resourceGroup().location

@description('parameter api_token')
@secure()
param api_token string

@description('parameter log_level')
param log_level string = 'info'

// A name part unique to the resource group.
var resourceToken = toLower(uniqueString(resourceGroup().id))

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${resourceToken}'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource containerAppsEnvironment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'cae-${resourceToken}'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logAnalytics.properties.customerId
        sharedKey: logAnalytics.listKeys().primarySharedKey
      }
    }
  }
}

// Azure Files: one share per volume, mounted through the environment's storage.
resource storageAccount 'Microsoft.Storage/storageAccounts@2023-01-01' = {
  name: 'st${resourceToken}'
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
  }
}

resource fileService 'Microsoft.Storage/storageAccounts/fileServices@2023-01-01' = {
  parent: storageAccount
  name: 'default'
}

resource share_cache_data 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-01-01' = {
  parent: fileService
  name: 'cache-data'
}

resource storage_cache_data 'Microsoft.App/managedEnvironments/storages@2024-03-01' = {
  parent: containerAppsEnvironment
  name: 'cache-data'
  properties: {
    azureFile: {
      accountName: storageAccount.name
      accountKey: storageAccount.listKeys().keys[0].value
      shareName: share_cache_data.name
      accessMode: 'ReadWrite'
    }
  }
}

resource app_cache 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'cache'
  location: location
  properties: {
    environmentId: containerAppsEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: false
        targetPort: 6379
        transport: 'tcp'
        exposedPort: 6379
      }
    }
    template: {
      containers: [
        {
          name: 'cache'
          image: 'docker.io/library/redis:7.4'
          probes: [
            {
              type: 'Readiness'
              tcpSocket: {
                port: 6379
              }
              periodSeconds: 5
              timeoutSeconds: 3
              failureThreshold: 5
            }
          ]
          volumeMounts: [
            {
              volumeName: 'cache-data'
              mountPath: '/data'
            }
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
      volumes: [
        {
          name: 'cache-data'
          storageType: 'AzureFile'
          storageName: storage_cache_data.name
        }
      ]
    }
  }
}

resource app_migrate 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'migrate'
  location: location
  properties: {
    environmentId: containerAppsEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
    }
    template: {
      containers: [
        {
          name: 'migrate'
          image: 'example.com/shop/migrate:1.0'
          args: [
            '/bin/migrate'
            '--apply'
            '--target'
            'tcp://cache:6379'
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
  dependsOn: [
    app_cache
  ]
}

resource app_api 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'api'
  location: location
  properties: {
    environmentId: containerAppsEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: false
        targetPort: 8000
        transport: 'http'
        allowInsecure: true
        additionalPortMappings: [
          {
            external: false
            targetPort: 9100
            exposedPort: 9100
          }
        ]
      }
      secrets: [
        {
          name: 'token'
          value: api_token
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'api'
          image: 'example.com/shop/api:2.1'
          command: [
            '/usr/bin/tini'
            '--'
          ]
          env: [
            {
              name: 'LOG_LEVEL'
              value: log_level
            }
            {
              name: 'TOKEN'
              secretRef: 'token'
            }
            {
              name: 'PRICE'
              value: 'costs $5'
            }
            {
              name: 'example.com/flag'
              value: 'true'
            }
            {
              name: 'ConnectionStrings__cache'
              value: 'cache:6379'
            }
            {
              name: 'services__cache__tcp__0'
              value: 'tcp://cache:6379'
            }
            {
              name: 'CACHE_TCP'
              value: 'tcp://cache:6379'
            }
            {
              name: 'CACHE_HOST'
              value: 'cache'
            }
            {
              name: 'CACHE_PORT'
              value: '6379'
            }
            {
              name: 'CACHE_URI'
              value: 'tcp://cache:6379'
            }
          ]
          probes: [
            {
              type: 'Readiness'
              httpGet: {
                path: '/healthz'
                port: 8000
              }
              periodSeconds: 2
              timeoutSeconds: 2
              initialDelaySeconds: 10
              failureThreshold: 10
            }
          ]
        }
      ]
      scale: {
        minReplicas: 2
        maxReplicas: 2
      }
    }
  }
  dependsOn: [
    app_migrate
    app_cache
  ]
}

resource app_edge 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'edge'
  location: location
  properties: {
    environmentId: containerAppsEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: 443
        transport: 'http'
      }
    }
    template: {
      containers: [
        {
          name: 'edge'
          image: 'docker.io/library/nginx:1.27'
          env: [
            {
              name: 'services__api__http__0'
              value: 'http://api:80'
            }
            {
              name: 'API_HTTP'
              value: 'http://api:80'
            }
            {
              name: 'services__api__metrics__0'
              value: 'http://api:9100'
            }
            {
              name: 'API_METRICS'
              value: 'http://api:9100'
            }
            {
              name: 'API_HOST'
              value: 'api'
            }
            {
              name: 'API_PORT'
              value: '80'
            }
            {
              name: 'API_URI'
              value: 'http://api:80'
            }
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
  dependsOn: [
    app_api
  ]
}

resource app_debug_shell 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'debug-shell'
  location: location
  properties: {
    environmentId: containerAppsEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
    }
    template: {
      containers: [
        {
          name: 'debug-shell'
          image: 'docker.io/library/busybox:1.36'
          args: [
            'sleep'
            'infinity'
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
}

output EDGE_HTTPS_URL string = 'https://${app_edge.properties.configuration.ingress.fqdn}'
