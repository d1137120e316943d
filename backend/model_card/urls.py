from django.urls import path

from model_card.views import ActiveModelView, AnalysersView, ModelAgreementView

urlpatterns = [
    path("", ActiveModelView.as_view(), name="model"),
    path("agreement/", ModelAgreementView.as_view(), name="model-agreement"),
    path("analysers/", AnalysersView.as_view(), name="model-analysers"),
]
